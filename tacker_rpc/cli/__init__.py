"""``tacker-rpc``: the operator's command line of tacker_rpc.

The console script runs :func:`tacker_rpc.cli.main.console_script`; each
subcommand lives in its own module of this package.
"""
