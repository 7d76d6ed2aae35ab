"""Errors the store reports to people: fixed English text, translated by the web layer."""


def N_(text):
    """Marks a string for translation where it is defined; translated where it is shown."""
    return text


def size_text(count):
    """A byte count as people read it in an error (B, KB, MB)."""
    for unit in ("B", "KB", "MB"):
        if count < 1024 or unit == "MB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024


class StoreError(ValueError):
    """Input the store refuses, with a message fit to show to the person who sent it.

    ``template`` is the untranslated text with ``%(name)s`` fields filled from ``params``.
    """

    def __init__(self, template, **params):
        super().__init__(template % params if params else template)
        self.template = template
        self.params = params
