"""The wire contract and the async client: all the desk knows of the backend."""
