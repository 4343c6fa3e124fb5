"""Developer tooling (not in the layer): the template-driven local resources and the CLI."""
