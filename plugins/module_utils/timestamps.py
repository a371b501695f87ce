# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one conversion of datetimes to UTC, for the timestamps both APIs take."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime


def utc_naive(value):
    """``value`` in UTC without a time zone; a naive ``value`` is taken to be UTC already."""
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value
