"""Domain values → the JSON objects API.md gives: one function per resource.

HTTP handlers, WebSocket frames and the evidence export all build their JSON here, so a
resource has one shape wherever it is sent. Pure functions, standard library only.
"""
