"""The ConnectWise Manage ``conditions`` language: tokenizer, recursive-descent parser and
evaluator (ASSUMPTIONS.md §2.2: the Guide's Conditions). Used for ``conditions``, ``childConditions`` and
``customFieldConditions``.

Grammar (keywords and field names are case-insensitive)::

    expression := conjunction ("OR" conjunction)*
    conjunction := term ("AND" term)*
    term       := "(" expression ")" | comparison
    comparison := PATH operator value
                | PATH ["NOT"] ("CONTAINS" | "LIKE") STRING
                | PATH ["NOT"] "IN" "(" value ("," value)* ")"
    operator   := "=" | "!=" | "<" | "<=" | ">" | ">="
    value      := STRING | NUMBER | "TRUE" | "FALSE" | "NULL" | "[" ISO-8601 datetime "]"
    PATH       := NAME ("/" NAME)*

Strings are quoted with ``"`` or ``'``; inside, the quote is escaped by doubling it (``'O''Brien'``)
or with a backslash (``"say \\"hi\\""``), and ``\\\\`` is a backslash. ``like`` takes ``*`` and ``%``
as wildcards. Text compares case-insensitively (SQL Server's default collation).
"""

import datetime as dt
import operator
import re

CONDITIONS = "conditions"
CHILD_CONDITIONS = "childConditions"
CUSTOM_FIELD_CONDITIONS = "customFieldConditions"

KEYWORDS = {"and", "or", "not", "contains", "like", "in", "true", "false", "null"}
COMPARISON_OPERATORS = ("!=", "<=", ">=", "=", "<", ">")
WORD_OPERATORS = ("contains", "like", "in")
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_PATH = re.compile(r"%s(?:/%s)*" % (_NAME, _NAME))
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


class ConditionError(ValueError):
    """A condition Manage would refuse; the message goes into the 400 body."""


class _Mismatch(Exception):
    """A field value and a literal of types that cannot be compared."""


class Token:
    __slots__ = ("kind", "value", "text", "position")

    def __init__(self, kind, value, text, position):
        self.kind = kind  # PATH, STRING, NUMBER, DATETIME, OP, "(", ")", ",", END
        self.value = value
        self.text = text
        self.position = position

    def is_keyword(self, *words):
        return self.kind == "PATH" and self.value.lower() in words


# ----- tokenizer ---------------------------------------------------------------------------
def tokenize(text):
    tokens = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char.isspace():
            pos += 1
        elif char in "(),":
            tokens.append(Token(char, char, char, pos))
            pos += 1
        elif char in "\"'":
            value, end = _read_string(text, pos)
            tokens.append(Token("STRING", value, text[pos:end], pos))
            pos = end
        elif char == "[":
            value, end = _read_datetime(text, pos)
            tokens.append(Token("DATETIME", value, text[pos:end], pos))
            pos = end
        else:
            pos = _read_plain(text, pos, tokens)
    tokens.append(Token("END", None, "end of conditions", len(text)))
    return tokens


def _read_plain(text, pos, tokens):
    for symbol in COMPARISON_OPERATORS:
        if text.startswith(symbol, pos):
            tokens.append(Token("OP", symbol, symbol, pos))
            return pos + len(symbol)
    number = _NUMBER.match(text, pos)
    if number:
        literal = number.group()
        value = float(literal) if "." in literal else int(literal)
        tokens.append(Token("NUMBER", value, literal, pos))
        return number.end()
    path = _PATH.match(text, pos)
    if path:
        tokens.append(Token("PATH", path.group(), path.group(), pos))
        return path.end()
    raise ConditionError("Unexpected character '%s' at position %d." % (text[pos], pos))


def _read_string(text, start):
    quote = text[start]
    chars = []
    pos = start + 1
    while pos < len(text):
        char = text[pos]
        following = text[pos + 1] if pos + 1 < len(text) else ""
        if char == "\\" and following in (quote, "\\"):
            chars.append(following)
            pos += 2
        elif char == quote and following == quote:
            chars.append(quote)
            pos += 2
        elif char == quote:
            return "".join(chars), pos + 1
        else:
            chars.append(char)
            pos += 1
    raise ConditionError("Unterminated string starting at position %d." % start)


def _read_datetime(text, start):
    end = text.find("]", start)
    if end < 0:
        raise ConditionError("Unterminated datetime starting at position %d." % start)
    raw = text[start + 1:end].strip()
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise ConditionError("Invalid datetime [%s] at position %d." % (raw, start)) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value, end + 1


# ----- syntax tree -------------------------------------------------------------------------
class Or:
    def __init__(self, items):
        self.items = items

    def matches(self, record, context):
        return any(item.matches(record, context) for item in self.items)


class And:
    def __init__(self, items):
        self.items = items

    def matches(self, record, context):
        return all(item.matches(record, context) for item in self.items)


class Comparison:
    """``path op value``; ``!=`` and the ``not`` forms are the negation of ``=``/the plain form."""

    def __init__(self, path, op, value, negated=False):
        self.path = tuple(path.split("/"))
        self.op = op
        self.value = value
        self.negated = negated
        self.pattern = LikePattern(value) if op == "like" else None

    def matches(self, record, context):
        values = context.resolve(record, self)
        result = any(self._holds(value, context) for value in values)
        return result != self.negated

    def _holds(self, actual, context):
        if self.op == "in":
            return any(self._equal(actual, item, context) for item in self.value)
        if self.op == "=":
            return self._equal(actual, self.value, context)
        if actual is None:
            return False
        try:
            if self.op in ("contains", "like"):
                text = context.text(actual)
                if self.op == "contains":
                    return self.value.casefold() in text.casefold()
                return self.pattern.matches(text)
            left, right = context.comparable(actual, self.value)
            return _ORDERINGS[self.op](left, right)
        except _Mismatch:
            raise self._type_error(actual) from None

    def _equal(self, actual, literal, context):
        if literal is None or actual is None:
            return actual is literal
        try:
            left, right = context.comparable(actual, literal)
        except _Mismatch:
            raise self._type_error(actual) from None
        return left == right

    def _type_error(self, actual):
        return ConditionError("The value supplied for %s does not match its type (%s)."
                              % ("/".join(self.path), type(actual).__name__))


_ORDERINGS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


class LikePattern:
    """A ``like`` pattern: ``*``/``%`` match any run, the rest literally, case-insensitively, on the
    whole value. Matched by scanning for each literal part in turn (linear in the text for each
    part), never by a backtracking regex: ``a*b*c*...`` with many wildcards must not hang the server."""

    def __init__(self, value):
        self.parts = [part.casefold() for part in re.split(r"[*%]", value)]

    def matches(self, text):
        text = text.casefold()
        if len(self.parts) == 1:
            return text == self.parts[0]
        first, middle, last = self.parts[0], self.parts[1:-1], self.parts[-1]
        if not text.startswith(first):
            return False
        position = len(first)
        for part in middle:  # the leftmost occurrence leaves the most room for the rest
            found = text.find(part, position)
            if found < 0:
                return False
            position = found + len(part)
        return len(text) - position >= len(last) and text.endswith(last)


# ----- parser ------------------------------------------------------------------------------
MAX_NESTING = 32  # parentheses deep; deeper conditions are refused with 400, not a RecursionError
MAX_COMPARISONS = 256  # per parameter; bounds the work one request does while the emulator is locked


class _Parser:
    def __init__(self, text, allow_in):
        self.tokens = tokenize(text)
        self.index = 0
        self.allow_in = allow_in
        self.depth = 0
        self.comparisons = 0

    @property
    def current(self):
        return self.tokens[self.index]

    def advance(self):
        token = self.current
        self.index += 1
        return token

    def fail(self, expected):
        token = self.current
        raise ConditionError("Expected %s but found '%s' at position %d." % (expected, token.text, token.position))

    def parse(self):
        if self.current.kind == "END":
            raise ConditionError("The conditions are empty.")
        node = self.expression()
        if self.current.kind != "END":
            self.fail("AND, OR or the end of the conditions")
        return node

    def expression(self):
        items = [self.conjunction()]
        while self.current.is_keyword("or"):
            self.advance()
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else Or(items)

    def conjunction(self):
        items = [self.term()]
        while self.current.is_keyword("and"):
            self.advance()
            items.append(self.term())
        return items[0] if len(items) == 1 else And(items)

    def term(self):
        if self.current.kind == "(":
            if self.depth >= MAX_NESTING:
                raise ConditionError("The conditions are nested more than %d levels deep at position %d."
                                     % (MAX_NESTING, self.current.position))
            self.advance()
            self.depth += 1
            node = self.expression()
            self.depth -= 1
            if self.current.kind != ")":
                self.fail("')'")
            self.advance()
            return node
        return self.comparison()

    def comparison(self):
        if self.current.kind != "PATH" or self.current.value.lower() in KEYWORDS:
            self.fail("a field name")
        self.comparisons += 1
        if self.comparisons > MAX_COMPARISONS:
            raise ConditionError("The conditions hold more than %d comparisons (at position %d)."
                                 % (MAX_COMPARISONS, self.current.position))
        path = self.advance().value
        negated = self.current.is_keyword("not")
        if negated:
            self.advance()
        if self.current.is_keyword(*WORD_OPERATORS):
            return self.word_comparison(path, negated)
        if negated or self.current.kind != "OP":
            self.fail("CONTAINS, LIKE or IN" if negated else "an operator")
        op = self.advance().value
        value = self.value()
        if value is None and op not in ("=", "!="):
            raise ConditionError("null can only be compared with = or != (field %s)." % path)
        if op == "!=":
            return Comparison(path, "=", value, negated=True)
        return Comparison(path, op, value)

    def word_comparison(self, path, negated):
        op = self.advance().value.lower()
        if op == "in":
            if not self.allow_in:
                raise ConditionError("The IN operator is not supported here (field %s)." % path)
            return Comparison(path, "in", self.value_list(), negated)
        if self.current.kind != "STRING":
            self.fail("a quoted string after %s" % op.upper())
        return Comparison(path, op, self.advance().value, negated)

    def value_list(self):
        if self.current.kind != "(":
            self.fail("'(' after IN")
        self.advance()
        values = [self.value()]
        while self.current.kind == ",":
            self.advance()
            values.append(self.value())
        if self.current.kind != ")":
            self.fail("',' or ')'")
        self.advance()
        return values

    def value(self):
        token = self.current
        if token.kind in ("STRING", "NUMBER", "DATETIME"):
            return self.advance().value
        if token.is_keyword("true", "false", "null"):
            self.advance()
            return {"true": True, "false": False, "null": None}[token.value.lower()]
        self.fail("a value")


def parse(text, allow_in=True):
    """Parse a conditions string into Or / And / Comparison nodes; raise ConditionError."""
    return _Parser(text, allow_in).parse()


# ----- evaluation --------------------------------------------------------------------------
class Filter:
    """A compiled conditions string, called with a record (a dict) to test it.

    ``fields`` are the top-level names the resource knows (matched case-insensitively; a
    comparison on any other name is an error naming the field, as Manage answers
    "x is not a recognized name."); ``aliases`` map extra lower-cased names to paths, such
    as ``lastupdated`` -> ``("_info", "lastUpdated")``.

    ``kind`` changes three rules: only ``conditions`` allow IN (ASSUMPTIONS.md §2.2: the Guide's Conditions);
    only ``childConditions`` may walk into arrays (a comparison holds if it holds for
    some element); ``customFieldConditions`` compare values loosely, because custom
    field values are untyped.
    """

    def __init__(self, text, fields, aliases=None, kind=CONDITIONS):
        self.kind = kind
        self.tree = parse(text, allow_in=(kind == CONDITIONS))
        self._fields = {name.lower(): name for name in fields}
        self._aliases = {key.lower(): tuple(path) for key, path in (aliases or {}).items()}
        self._paths = {}
        self._check_names(self.tree)

    def __call__(self, record):
        return self.tree.matches(record, self)

    def _check_names(self, node):
        if isinstance(node, Comparison):
            self._paths[node] = self._canonical(node.path)
        else:
            for item in node.items:
                self._check_names(item)

    def _canonical(self, path):
        head = path[0].lower()
        if head in self._fields:
            return (self._fields[head],) + path[1:]
        if len(path) == 1 and head in self._aliases:
            return self._aliases[head]
        raise ConditionError("%s is not a recognized name." % "/".join(path))

    # ----- hooks used by Comparison --------------------------------------------------
    def resolve(self, record, comparison):
        """The values a path reaches in a record: one value, or one per array element."""
        values = [record]
        for segment in self._paths[comparison]:
            found = []
            for value in values:
                value = _member(value, segment)
                if isinstance(value, list):
                    if self.kind != CHILD_CONDITIONS:
                        raise ConditionError("%s is not a recognized name." % "/".join(comparison.path))
                    found.extend(value)
                else:
                    found.append(value)
            values = found
        return values or [None]

    def comparable(self, actual, literal):
        try:
            return _comparable(actual, literal)
        except _Mismatch:
            if self.kind == CUSTOM_FIELD_CONDITIONS:
                return _as_text(actual), _as_text(literal)
            raise

    def text(self, actual):
        if isinstance(actual, str):
            return actual
        if self.kind == CUSTOM_FIELD_CONDITIONS:
            return _as_text(actual)
        raise _Mismatch()


def _member(value, segment):
    if not isinstance(value, dict):
        return None
    if segment in value:
        return value[segment]
    lowered = segment.lower()
    for key, item in value.items():
        if key.lower() == lowered:
            return item
    return None


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _comparable(actual, literal):
    """Both sides in one comparable type, or _Mismatch. Text is compared case-insensitively."""
    if isinstance(literal, bool) or isinstance(actual, bool):
        if isinstance(literal, bool) and isinstance(actual, bool):
            return actual, literal
        raise _Mismatch()
    for literal_kind, convert in _CONVERSIONS:
        if literal_kind(literal):
            return convert(actual, literal)
    raise _Mismatch()


def _against_datetime(actual, literal):
    if isinstance(actual, str):
        return _parse_datetime(actual), literal
    raise _Mismatch()


def _against_number(actual, literal):
    if _is_number(actual):
        return actual, literal
    if isinstance(actual, str):
        return _parse_number(actual), literal
    raise _Mismatch()


def _against_text(actual, literal):
    if isinstance(actual, str):
        return actual.casefold(), literal.casefold()
    if _is_number(actual):
        return actual, _parse_number(literal)
    raise _Mismatch()


_CONVERSIONS = ((lambda literal: isinstance(literal, dt.datetime), _against_datetime),
                (_is_number, _against_number),
                (lambda literal: isinstance(literal, str), _against_text))


def _parse_number(text):
    try:
        return float(text)
    except ValueError:
        raise _Mismatch() from None


def _parse_datetime(text):
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise _Mismatch() from None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _as_text(value):
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ").casefold()
    return str(value).casefold()
