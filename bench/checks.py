"""The PASS / FAIL lines every benchmark ends with."""


def print_checks(checks) -> None:
    """`checks`: (sentence, passed) pairs, printed after a blank line."""
    print()
    for text, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
