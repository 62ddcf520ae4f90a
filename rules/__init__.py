"""The deployment's rules: one module per rule, grouped by log source, each registered with
``streamalert.rules.rule``. Every module under this package is imported by the rule processor."""
