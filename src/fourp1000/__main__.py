"""Allow ``python -m fourp1000``."""

from .cli import main

if __name__ == "__main__":
    main(prog_name="fourp1000")
