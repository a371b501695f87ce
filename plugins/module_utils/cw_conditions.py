# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A syntax check of Manage conditions (``conditions`` query strings and workflow event conditions),
so that a condition Manage cannot parse is refused before it is written.

Manage documents its conditions language only by example (the developer guide's "Conditions":
strings in ``"..."`` or ``'...'``, numbers, ``True``/``False``, ``null``, dates in ``[...]``,
``field/path``, ``= != < <= > >= contains like in not``, ``AND``/``OR``, parentheses). Where the
grammar is not known, this check is lenient: it refuses only what is broken in any reading of it

- an unterminated string or date, an unbalanced parenthesis;
- an empty condition, or an empty part of one (``()``, ``a = 1 AND AND b = 2``);
- ``AND``/``OR`` without a condition on both sides, an operator without an operand on each side
  (``= 1``, ``a =``, ``a = = 1``, ``a contains``), a value directly after a value (``a "x"``);
- ``in`` without a parenthesised list, or a list with an empty item (``in (1, )``);

and names the place the way Manage does: ``Expected ')' but found 'end of condition' at position 107.``
(positions count characters from 0). Words it does not know (an operator such as ``is``, an
unquoted value) pass. Standard library only: the sync agent imports this too.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

END = "end of condition"
SYMBOLS = ("!=", "<>", "<=", ">=", "=", "<", ">")  # longest first
LOGIC = ("and", "or")
WORD_OPERATORS = ("contains", "like", "in")
# A word: a field path (``status/name``), a keyword, a number or an unquoted value; ends at a
# space, a quote, a bracket, a parenthesis, a comma or a comparison symbol.
_WORD = re.compile(r"""[^\s"'\[\]()<>=!,]+""")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")  # a number ends a word: ``12OR`` is ``12 OR``
MAX_NESTING = 64  # deeper than any real condition; keeps the recursion bounded for any input


class ConditionSyntaxError(ValueError):
    """A condition Manage cannot parse; ``position`` counts characters from 0."""

    def __init__(self, message, position):
        super().__init__(message)
        self.position = position


class Token:
    __slots__ = ("kind", "text", "position")

    def __init__(self, kind, text, position):
        self.kind = kind  # WORD, VALUE (string, date), OP (symbol), "(", ")", ",", END
        self.text = text
        self.position = position

    @property
    def word(self):
        return self.text.lower() if self.kind == "WORD" else None

    def shown(self):
        return END if self.kind == "END" else self.text


def tokenize(text):
    tokens, position = [], 0
    while position < len(text):
        char = text[position]
        if char.isspace():
            position += 1
        elif char in "(),":
            tokens.append(Token(char, char, position))
            position += 1
        elif char in "\"'":
            end = _string_end(text, position)
            tokens.append(Token("VALUE", text[position:end], position))
            position = end
        elif char == "[":
            end = _date_end(text, position)
            tokens.append(Token("VALUE", text[position:end], position))
            position = end
        else:
            position = _plain(text, position, tokens)
    tokens.append(Token("END", END, len(text)))
    return tokens


def _plain(text, position, tokens):
    for symbol in SYMBOLS:
        if text.startswith(symbol, position):
            tokens.append(Token("OP", symbol, position))
            return position + len(symbol)
    word = _NUMBER.match(text, position) or _WORD.match(text, position)
    if word is None:  # a lone "]" or "!"
        raise ConditionSyntaxError("Unexpected character '%s' at position %d." % (text[position], position), position)
    tokens.append(Token("WORD", word.group(), position))
    return word.end()


def _string_end(text, start):
    """The end of the string starting at ``start``: its quote doubled or after a backslash is part of it."""
    quote, position = text[start], start + 1
    while position < len(text):
        char = text[position]
        following = text[position + 1:position + 2]
        if char == "\\" and following in (quote, "\\"):
            position += 2
        elif char == quote and following == quote:
            position += 2
        elif char == quote:
            return position + 1
        else:
            position += 1
    raise ConditionSyntaxError("Unterminated string starting at position %d." % start, start)


def _date_end(text, start):
    end = text.find("]", start)
    if end < 0:
        raise ConditionSyntaxError("Unterminated datetime starting at position %d." % start, start)
    if not text[start + 1:end].strip():
        raise ConditionSyntaxError("Expected a datetime but found ']' at position %d." % end, end)
    return end + 1


class _Checker:
    """Recursive descent over the tokens: ``expression := conjunction (OR conjunction)*``,
    ``conjunction := term (AND term)*``, ``term := NOT term | "(" expression ")" | comparison``."""

    def __init__(self, text):
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0

    @property
    def current(self):
        return self.tokens[self.index]

    def advance(self):
        token = self.current
        self.index += 1
        return token

    def fail(self, expected, token=None):
        token = token or self.current
        raise ConditionSyntaxError("Expected %s but found '%s' at position %d." % (expected, token.shown(), token.position),
                                   token.position)

    def check(self):
        if self.current.kind == "END":
            raise ConditionSyntaxError("The condition is empty.", 0)
        self.expression()
        if self.current.kind != "END":
            self.fail("AND, OR or the end of the condition")

    def expression(self):
        self.conjunction()
        while self.current.word == "or":
            self.advance()
            self.conjunction()

    def conjunction(self):
        self.term()
        while self.current.word == "and":
            self.advance()
            self.term()

    def term(self):
        while self.current.word == "not" and self.tokens[self.index + 1].word not in WORD_OPERATORS:
            self.advance()
        if self.current.kind == "(":
            self.group(self.expression)
        else:
            self.operand("a field name")
        return self.comparison_tail()

    def group(self, inner):
        if self.depth >= MAX_NESTING:
            self.fail("at most %d levels of parentheses" % MAX_NESTING)
        self.advance()
        self.depth += 1
        inner()
        self.depth -= 1
        if self.current.kind != ")":
            self.fail("')'")
        self.advance()

    def comparison_tail(self):
        """After an operand: operators, each with its operand (``in`` with its list), up to AND, OR,
        a closing parenthesis or the end. An operand alone (a Checkbox field, say) passes."""
        while not self.at_boundary():
            if self.current.kind in ("VALUE", "("):
                self.fail("an operator")
            if self.operator() == "in":
                self.value_list()
            else:
                self.operand("a value")

    def at_boundary(self):
        return self.current.kind in ("END", ")", ",") or self.current.word in LOGIC

    def operand(self, expected):
        token = self.current
        if token.kind == "VALUE" or (token.kind == "WORD" and token.word not in LOGIC + WORD_OPERATORS + ("not",)):
            self.advance()
            return
        if token.kind == "(":  # a value in parentheses
            return self.group(lambda: self.operand("a value"))
        self.fail(expected)

    def operator(self):
        """The operator at the cursor: a symbol, a word operator, ``not`` alone or before one of them
        (folded into it), or a word Manage may know (``is``, say)."""
        token = self.advance()
        if token.word == "not" and (self.current.kind == "OP" or self.current.word in WORD_OPERATORS):
            token = self.advance()
        return token.word or token.text

    def value_list(self):
        if self.current.kind != "(":
            self.fail("'(' after IN")
        self.advance()
        self.operand("a value")
        while self.current.kind == ",":
            self.advance()
            self.operand("a value")
        if self.current.kind != ")":
            self.fail("',' or ')'")
        self.advance()


def check_condition(text):
    """Raise :class:`ConditionSyntaxError` when Manage cannot parse ``text`` (see the module's doc)."""
    if not isinstance(text, str):
        raise ConditionSyntaxError("The condition must be text.", 0)
    _Checker(text).check()


def condition_problem(text):
    """``None`` for a condition Manage can parse, else the reason with the place it is at, as
    ``Expected ')' but found 'end of condition' at position 107 (after '...= "New"').``"""
    try:
        check_condition(text)
    except ConditionSyntaxError as err:
        before = text[max(0, err.position - 30):err.position]
        where = " (after %r)" % before if before.strip() else ""
        return str(err).rstrip(".") + where + "."
    return None
