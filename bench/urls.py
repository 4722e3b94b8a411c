"""The same tiny JSON behind each scheme, through the same Django middleware stack."""

from django.http import JsonResponse
from django.urls import include, path
from knox.auth import TokenAuthentication as KnoxAuthentication
from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_api_key.permissions import HasAPIKey

PAYLOAD = {"ok": True}


def plain(request):
    return JsonResponse(PAYLOAD)


def tessera(request):
    # The middleware has already refused anything but a usable token.
    if request.token is None:
        return JsonResponse({"error": "missing_token"}, status=401)
    return JsonResponse(PAYLOAD)


class DrfNone(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        return Response(PAYLOAD)


class DrfAuthtoken(DrfNone):
    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]


class DrfKnox(DrfNone):
    authentication_classes = [KnoxAuthentication]
    permission_classes = [IsAuthenticated]


class DrfApiKey(DrfNone):
    authentication_classes = []
    permission_classes = [HasAPIKey]


urlpatterns = [
    path("bench/plain", plain),
    path("api/bench/tessera", tessera),
    path("bench/drf/none", DrfNone.as_view()),
    path("bench/drf/authtoken", DrfAuthtoken.as_view()),
    path("bench/drf/knox", DrfKnox.as_view()),
    path("bench/drf/apikey", DrfApiKey.as_view()),
    path("", include("config.urls")),
]
