"""The compression of a pouch's record stream: zstd, its settings, and the shipped dictionary.

The defaults come from ``bench/bandwidth.py`` on the real-traffic part of the
corpus (batches of 50): level 19 with an 8 MiB window is as small as level 22
with 128 MiB (which would cost the box that much RAM to read), level 9 is 5%
larger.  The shipped dictionary (220 KB, cover k=1024 d=8, trained on held-out
mail encoded as pouch records) saves 19% of a text-only pouch and 6.3% all-in
(batch 50: 597 -> 485 B/email text-only, 2115 -> 1982 all-in); round two's
112 KB one (k=512 d=6) gave 498 and 1998, round one's 64 KB one 514 text-only.
"""

import functools
from importlib import resources

import zstandard

CODEC = "zstd"
DEFAULT_LEVEL = 19
DEFAULT_WINDOW_LOG = 23
MAX_WINDOW_LOG = 27  # a reader refuses frames that would need more memory than 128 MiB
DICTIONARY_FILE = "mail.zdict"  # the one writers use; older ones (mail-<id>.zdict) stay for reading


def _data():
    return resources.files("pouch").joinpath("data")


@functools.cache
def shipped_dictionary():
    """The dictionary writers use, or None when the package ships none."""
    path = _data().joinpath(DICTIONARY_FILE)
    return zstandard.ZstdCompressionDict(path.read_bytes()) if path.is_file() else None


@functools.cache
def shipped_dictionaries():
    """Every dictionary in pouch/data/ by id, so pouches written before an update still read."""
    if not _data().is_dir():
        return {}
    found = (zstandard.ZstdCompressionDict(path.read_bytes()) for path in _data().iterdir()
             if path.name.endswith(".zdict"))
    return {dictionary.dict_id(): dictionary for dictionary in found}


def parameters(level=DEFAULT_LEVEL, window_log=DEFAULT_WINDOW_LOG, write_dict_id=False):
    """window_log None: the level's own window."""
    window = {} if window_log is None else {"window_log": window_log}
    return zstandard.ZstdCompressionParameters.from_level(level, write_checksum=True, write_dict_id=write_dict_id,
                                                          **window)


def compressor(level=DEFAULT_LEVEL, window_log=DEFAULT_WINDOW_LOG, dictionary=None, write_dict_id=True):
    params = parameters(level, window_log, write_dict_id and dictionary is not None)
    return zstandard.ZstdCompressor(dict_data=dictionary, compression_params=params)


def decompressor(dictionary=None, max_window_log=MAX_WINDOW_LOG):
    return zstandard.ZstdDecompressor(dict_data=dictionary, max_window_size=1 << max_window_log)


def dictionary_id(dictionary):
    return dictionary.dict_id() if dictionary is not None else 0
