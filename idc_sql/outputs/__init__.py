"""Outputs: which paths a result may be written to, and writing them without harm.

What an output path may name, checked by :func:`check_output` before anything runs:

* ``-``: standard output.
* A regular file, new or existing. An existing one is replaced whole, atomically, and keeps its
  permission bits (set-id bits excepted) and, where the writer may set them, its owner and group.
  Other hard links to it keep the old content: a rename gives the name a new file.
* A symlink is written THROUGH: the regular file at the end of its chain is replaced, in that
  file's own folder, and the link stays a link pointing where it pointed. A link that dangles or
  loops is refused (following it would create a file wherever it points), and so is a link to
  anything that may not be written itself.

Refused with a :class:`~idc_sql.errors.UsageError` (exit status 2), before anything is created:
a directory, a character or block device, a FIFO, a socket, or a link to one of them; a path
that ends in a slash or names ``.`` or ``..``; an open file of a process (``/dev/stdout``,
``/dev/fd/N``, what ``>(...)`` expands to, ``/proc/...``: use ``-`` and a pipe instead, as
written through they would replace a file a shell redirected a stream to); a folder that does not
exist or that the user may not write in; and an existing file that is read-only, either for the
user or for everyone (no write bit at all: then root is refused too).

How a file is written, by :func:`atomic_output`: into a private folder (mode 0700) beside the
final file, named ``.<NAME>.<16 hex digits>.part`` after the final file's name, where the writer
may also put anything it makes on the way; then the file is flushed to disk, renamed over the
final name, and the folder holding the final file is flushed too. On any exception, and on
SIGINT, SIGTERM or SIGHUP, the private folder is removed and the final file is left as it was.
Nothing else is ever created, renamed or removed. (A name too long to fit in that pattern is
shortened and followed by ``~`` and 16 hex digits of its digest, so that two outputs never share
a pattern.)

A private folder belongs to the process that holds an ``flock`` on it. A process killed while
writing (``kill -9``, a power cut) leaves its folder behind; the next write to the SAME output
removes such folders, but only those of that output's pattern, owned by the same user and whose
lock no live process holds. The sweep and the making of a new folder happen under a short lock
on the parent folder, so no sweeper can take a folder that is being made for its lock.

Signals: while a write is in progress in the main thread, SIGTERM and SIGHUP raise
:class:`Terminated`, a :class:`SystemExit` whose code is 128 + the signal's number (143, 129),
and SIGINT raises :class:`KeyboardInterrupt` as usual; the private folder is removed on the way
out. A signal that arrives while the output is being renamed into place or a private folder
removed waits until that step is done. Handlers are installed only over the default ones (a
signal that is ignored, as under ``nohup``, stays ignored; a handler of the application's own is
kept) and the previous ones are restored afterwards. Writes from other threads are still cleaned
up on exceptions, but signals are not intercepted there.

Standard output: :func:`copy_to_stdout` copies a finished file to it. A closed standard output,
a full device behind it or a reader that went away end in :class:`StdoutError` (exit status 1,
one line) or :class:`BrokenPipe` (exit status 141, to be reported by nothing at all), never in
a traceback, and nothing further is written to that stream.

The package's modules: :mod:`.target` (:class:`OutputTarget`, the errors, :func:`header_safe`),
:mod:`.check` (:func:`check_output`), :mod:`.signals` (signals during a write), :mod:`.private`
(private folders and their sweep), :mod:`.atomic` (:func:`atomic_output` and the commit) and
:mod:`.stdout` (:func:`copy_to_stdout`).

>>> check_output("-").is_stdout
True
>>> header_safe("m\\nrm *\\n.s5cmd")
'm\\\\nrm *\\\\n.s5cmd'
"""

from __future__ import annotations

from ..errors import BrokenPipe, StdoutError, Terminated
from .atomic import atomic_output
from .check import check_output
from .stdout import copy_to_stdout
from .target import OutputTarget, header_safe

__all__ = [
    "BrokenPipe",
    "OutputTarget",
    "StdoutError",
    "Terminated",
    "atomic_output",
    "check_output",
    "copy_to_stdout",
    "header_safe",
]
