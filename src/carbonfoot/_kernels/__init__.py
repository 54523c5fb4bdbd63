"""Private columnar kernels: the plumbing under the stages, named for what each computes.

Nothing here knows about trips, modes or money: these are whole-column operations on
Arrow buffers and numpy arrays that the stages (:mod:`carbonfoot.intake`,
:mod:`carbonfoot.engine`, :mod:`carbonfoot.policies`) share, written once so that the
batch path stays a handful of vectorized calls.

* :mod:`~carbonfoot._kernels.arrays`: one chunk without a copy; null masks.
* :mod:`~carbonfoot._kernels.strings`: text columns as text; whitespace and empties read
  from the Arrow buffers; a string array's byte layout.
* :mod:`~carbonfoot._kernels.hashing`: 64-bit keys of strings; repeated values; value
  codes; hashes stable across chunks and processes.
* :mod:`~carbonfoot._kernels.lookup`: codes of a text column by key, one probe per row.
* :mod:`~carbonfoot._kernels.sorting`: rows by group, then time, then position.
* :mod:`~carbonfoot._kernels.threads`: a step on another core for large batches.

The underscore is the rule: plugins never import from here (the few kernels a plugin
needs are re-exported by the public module of its hook, e.g. ``carbonfoot.distances``).
"""
