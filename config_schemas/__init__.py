"""Marshmallow schemas of the files under ``conf/``; ``post_load`` returns ``models``' frozen dataclasses.

``config.ConfigSchema`` loads both files at once and is the entry point (``streamalert.config.load_config``
reads the files and calls it). This package imports nothing on purpose: ``models`` stays free of marshmallow.
"""
