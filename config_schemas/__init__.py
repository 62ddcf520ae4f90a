"""Marshmallow schemas of the files under ``conf/``; ``post_load`` returns ``models``' frozen dataclasses.

``config.ConfigSchema`` loads the files at once and is the entry point (``streamalert.config.load_config``
reads the files, replaces ``<prefix>`` in ``lambda.json`` with ``placeholders``, and calls it). This package
imports nothing on purpose: ``models`` stays free of marshmallow.
"""
