"""Query builders that own a rule several layers need (models, serializers, the content app).

Each rule is written once here, as ORM for Django code and as SQL text for the hand-written
statements of the content app; nothing in this package imports models at import time, so models
may import it.
"""
