"""carbonfoot's built-in plugins.

Each module is one plugin, registered through the ``carbonfoot`` entry-point group in
carbonfoot's own pyproject.toml, exactly as a district's plugin would be: the modes,
the factor sets shipped in ``factors/``, and the two credit policies.
"""
