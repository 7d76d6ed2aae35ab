"""Errors the store reports to people: fixed English text, translated by the web layer."""


def N_(text):
    """Marks a string for translation where it is defined; translated where it is shown."""
    return text


class StoreError(ValueError):
    """Input the store refuses, with a message fit to show to the person who sent it.

    ``template`` is the untranslated text with ``%(name)s`` fields filled from ``params``.
    """

    def __init__(self, template, **params):
        super().__init__(template % params if params else template)
        self.template = template
        self.params = params
