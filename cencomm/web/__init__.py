"""HTTP layer: routes, middlewares, problems, handlers."""
