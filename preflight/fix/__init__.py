"""Fixing a clip: plan the conform (:mod:`.plan`), transcode and split it at shots
(:mod:`.execute`, :mod:`.splice`, :mod:`.segments`), place anchors (:mod:`.anchors`), describe
the segments (:mod:`.manifest`) and join edited segments back (:mod:`.join`)."""
