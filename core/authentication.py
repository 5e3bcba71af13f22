from rest_framework.authentication import BaseAuthentication


class PublicEndpointAuthentication(BaseAuthentication):
    """For register, login, refresh and logout: any Authorization header is ignored.

    An endpoint with no authentication class makes DRF answer 403 where the contract wants
    401 (wrong credentials at login); this class authenticates nobody but names the scheme.
    """

    def authenticate(self, request):
        return None

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
