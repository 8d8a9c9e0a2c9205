"""GET /api/files/[name]: download a file from the data folder, streamed, for a signed-in user."""

from pydantic import BaseModel
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse

from lib.controllers.files_controller import MAX_NAME, NAME_PATTERN, get_file
from lib.urls import get_file_url, get_login_url


class File(BaseModel):
    name: str


# The controller's rule for names, in the document: a name it refuses is a 400 from it, not a 422 from the
# model, so the model takes any string and the parameter is described here.
openapi_extra = {
    "GET": {
        "parameters": [
            {
                "name": "name",
                "in": "path",
                "required": True,
                "description": "A file in the data folder",
                "schema": {"type": "string", "minLength": 1, "maxLength": MAX_NAME, "pattern": NAME_PATTERN},
                "example": "welcome.txt",
            }
        ]
    }
}
responses = {
    200: "The file, as an attachment",
    307: "Not signed in: to the sign-in page, or through /api/refresh-token first with a refresh token (proxy.py)",
    400: "Invalid file name: empty, hidden, a path, or with control characters",
    404: "File not found",
}


def GET(params: File) -> FileResponse | PlainTextResponse | RedirectResponse:
    """Download a file from the data folder.

    Streamed as an attachment. Names that would leave the folder are refused."""
    result = get_file(params.name)

    if result.error:
        if result.error.status == 401:  # the access token expired since the proxy let the request through
            return RedirectResponse(get_login_url(get_file_url(params.name)), status_code=307)
        return PlainTextResponse(result.error.status_text, status_code=result.error.status)

    info = result.data
    return FileResponse(
        info.path, media_type=info.media_type, filename=info.name, content_disposition_type="attachment"
    )
