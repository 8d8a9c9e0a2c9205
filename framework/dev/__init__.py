"""`framework dev`: hot reload in the running process.

| module         | does                                                                            |
|----------------|---------------------------------------------------------------------------------|
| `watch.py`     | which paths to watch and which changes count (watchfiles' DefaultFilter, tuned) |
| `plan.py`      | changed paths -> what to redo: restart, rescan `app/`, re-import which files     |
| `deps.py`      | which project files a route imports (static, from the AST), for lib/ changes     |
| `rescan.py`    | the walk of app/ after a change, re-walking only the changed folders             |
| `reloader.py`  | builds the next `RouteTable` to one side; the caller swaps it in one assignment  |
| `errorpage.py` | the dev error page (HTML for browsers, plain text otherwise)                     |
| `treepage.py`  | while the tree is invalid: the error page for page loads, the last good routes for the rest |
| `requestlog.py`| one line per request (`GET /api/x 200 in 4 ms`), printed when the response finished |
| `terminal.py`  | banner, one line per reload or error, colour only on a terminal                  |
| `hosts.py`     | the Host check: only this machine's names are answered (DNS rebinding)          |
| `ports.py`     | the listening socket: the next free port for `dev` without --port, one-line errors |
| `runner.py`    | uvicorn on a socket that survives a full restart (`os.execv`), the watch loop    |
"""
