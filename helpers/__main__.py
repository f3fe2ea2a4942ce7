"""`python -m helpers <stage>`: the command line, whose stages are in `helpers/cli/commands.py`."""

from helpers.cli.commands import main

if __name__ == "__main__":
    main()
