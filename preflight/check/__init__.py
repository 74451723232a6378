"""Checking a clip: one decode feeds the analyzers (:mod:`.analyze`), measurements are judged
against a profile (:mod:`.verdict`), and the result is printed or saved (:mod:`.result`,
:mod:`.report`)."""
