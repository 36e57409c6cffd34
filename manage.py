#!/usr/bin/env python
"""Django's command-line utility; `licita` is the same thing installed as a console script."""

from licita.__main__ import main

if __name__ == "__main__":
    main()
