"""Batch runs of ``preflight check`` and ``qa score``: many items, one results file, resumable.

* :mod:`.inputs` turns files, directories and globs into the list of videos;
* :mod:`.tasks` runs one item in a worker and returns its :class:`~.store.ItemRecord`;
* :mod:`.runner` sends items to a local process pool or a Dask cluster and collects records;
* :mod:`.store` appends records to the JSONL results file and resumes from it;
* :mod:`.html` and :mod:`.table` turn results files into the HTML report and a Parquet table.

Nothing here imports click: the commands in :mod:`preflight.cli` and :mod:`qa.cli` are thin.
Submodules are imported by their users (``import preflight.batch`` stays cheap).
"""
