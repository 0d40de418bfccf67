"""`python -m gaplab.demo naive|hardened --port N [...]`: serve a bundled demo target."""

from gaplab.demo.cli import serve_command

if __name__ == "__main__":
    serve_command(prog_name="python -m gaplab.demo")
