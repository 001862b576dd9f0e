"""``sentiment serve``: the HTTP prediction service (FastAPI, run by uvicorn) and its web page.

``app.py`` builds the application around a loaded ``SentimentModel``
(``create_app``) or, for uvicorn's worker processes, around the model named
in an environment variable (``app_from_environment``); ``schemas.py`` holds
the request and response models (and so the OpenAPI document at ``/docs``);
``static/`` the page served at ``/`` (plain HTML, CSS and JavaScript, nothing
fetched from elsewhere). This package imports the library and nothing in the
library imports it, so ``sentiment predict`` never loads FastAPI.
"""
