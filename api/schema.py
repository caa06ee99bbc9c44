"""drf-spectacular extensions for the API's own classes (imported by ``ApiConfig.ready``)."""

from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme


class TokenScheme(KnoxTokenScheme):
    """``accounts.tokens.TokenAuthentication`` is knox's with a faster token read: the same
    ``Authorization: Token ...`` scheme. drf-spectacular matches an extension to the exact
    class, so without this the schema would document no authentication at all."""

    target_class = "accounts.tokens.TokenAuthentication"
