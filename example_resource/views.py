"""The resource server's one view: a greeting for the token's user."""

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class HelloView(APIView):
    def get(self, request: Request) -> Response:
        # The token names the user by id only; this server has no user table.
        return Response(
            {"message": f"Hello, user {request.user.pk}!", "sub": request.user.pk}
        )
