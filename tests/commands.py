"""Entry points run in the test's process, as a user runs the command (their mains go through common/cli.py)."""
import contextlib
import io


def run_main(main, argv):
    """-> (exit code, the lines the command wrote to stderr)."""
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        code = main([str(token) for token in argv])
    return code, stderr.getvalue().splitlines()


def check_main(main, argv):
    """Run it; a failure ends the caller as SystemExit carrying the command's last line on stderr (its error)."""
    code, lines = run_main(main, argv)
    if code:
        raise SystemExit(lines[-1] if lines else code)
