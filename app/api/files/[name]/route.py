"""GET /api/files/[name]: download a file from the data folder, streamed, for a signed-in user."""

from starlette.responses import FileResponse, PlainTextResponse

from lib.controllers.files_controller import get_file


def GET(request, context):
    result = get_file(context.params["name"])

    if result.error:
        return PlainTextResponse(result.error.status_text, status_code=result.error.status)

    info = result.data
    return FileResponse(
        info.path, media_type=info.media_type, filename=info.name, content_disposition_type="attachment"
    )
