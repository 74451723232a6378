from preflight.sinks import WarningLog


def test_warning_log_keeps_order_drops_repeats_and_forwards_new_ones():
    seen: list[str] = []
    log = WarningLog(seen.append)
    for m in ["b", "a", "b", "c", "a"]:
        log(m)
    assert log.messages == ("b", "a", "c")
    assert seen == ["b", "a", "c"]
    assert WarningLog().messages == ()
