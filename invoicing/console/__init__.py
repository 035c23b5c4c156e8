"""The admin console: server-rendered pages under /admin for the people who run the service.

Every action calls the same service functions as the JSON API, so its rules and messages are the
API's. A page is signed into with an admin token; the session lives in the database (sign-out and
token revocation end it everywhere) and its cookie is accepted only under /admin."""
