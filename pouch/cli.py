"""`mailpouch-pouch`: look inside a pouch, or make one from .eml files."""

import sys


def main(argv=None):
    sys.exit("mailpouch-pouch: not yet built")
