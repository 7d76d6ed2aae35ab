"""Send smaller: a photo a user attaches is shrunk on the box before its message is queued
(pouch.images: long side at most 1600 px, orientation applied, metadata dropped, WebP or JPEG),
so the modem carries a phone-sized copy instead of the camera's 3-5 MB.

Shrinking a 12 MP photo takes a Pi's core for about a second: it runs in one thread of its
own, a photo at a time, as scrypt does (appliance.store.passwords), and pages go on meanwhile.
"""

import asyncio
import dataclasses
from concurrent.futures import ThreadPoolExecutor

from pouch import images

_shrinking = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shrink")


def smaller(new_file):
    """``new_file`` (a store.messages.NewFile) as a phone-sized photo, or as it is when it is
    no photo, already fits, or would not get smaller."""
    if not new_file.type.lower().startswith("image/"):
        return new_file
    shrunk = images.shrink(new_file.data)
    if shrunk is None:
        return new_file
    data, mime_type = shrunk
    return dataclasses.replace(new_file, name=images.renamed(new_file.name, mime_type), type=mime_type, data=data)


async def made_smaller(new_files):
    """Each of ``new_files`` through ``smaller``, off the server's thread."""
    loop = asyncio.get_running_loop()
    return [await loop.run_in_executor(_shrinking, smaller, new_file) for new_file in new_files]
