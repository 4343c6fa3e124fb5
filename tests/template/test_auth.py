"""Who may call which route, as API Gateway would enforce it after SAM's transform.

With the default parameters the API key is the only control; with Authorizer=CognitoAuthorizer every
route but the CORS preflights also needs a Cognito token. The caller identity the handler
takes from either is tested in tests/integration/test_ownership.py.
"""

from __future__ import annotations

from typing import Any

from tests.template.sam import resources

ROUTES = {
    ("/v1/video/submit", "post"),
    ("/v1/image/submit", "post"),
    ("/v1/jobs", "get"),
    ("/v1/jobs/{job_id}", "get"),
    ("/v1/jobs/{job_id}/result", "get"),
    ("/v1/jobs/{job_id}/cancel", "post"),
    ("/v1/jobs/{job_id}/multipart", "post"),
    ("/v1/jobs/{job_id}/multipart/{upload_id}/{part_number}", "get"),
    ("/v1/jobs/{job_id}/multipart/{upload_id}", "get"),
    ("/v1/jobs/{job_id}/multipart/{upload_id}/complete", "post"),
    ("/v1/jobs/{job_id}/multipart/{upload_id}/abort", "post"),
    ("/v1/plugins", "get"),
    ("/v1/plugins/{plugin_id}/manifest", "get"),
}


def api_body(**parameters: str) -> dict[str, Any]:
    body: dict[str, Any] = resources(**parameters)["Api"]["Properties"]["Body"]
    return body


def schemes(body: dict[str, Any], path: str, method: str) -> set[str]:
    return {name for requirement in body["paths"][path][method].get("security", []) for name in requirement}


def test_by_default_every_route_but_health_needs_the_api_key_and_nothing_else() -> None:
    body = api_body()
    served = {(path, method) for path, ops in body["paths"].items() for method in ops if method != "options"}
    assert served == ROUTES | {("/v1/health", "get")}
    for path, method in ROUTES:
        assert schemes(body, path, method) == {"api_key"}, path
    assert schemes(body, "/v1/health", "get") == set()


def test_cognito_mode_needs_a_user_pool_token_on_every_route_but_preflights() -> None:
    body = api_body(Authorizer="CognitoAuthorizer")
    for path, method in ROUTES:
        assert schemes(body, path, method) == {"api_key", "CognitoAuthorizer"}, path
        assert schemes(body, path, "options") == set(), path
    # SAM cannot exempt a route from a default authorizer chosen by a parameter.
    assert schemes(body, "/v1/health", "get") == {"CognitoAuthorizer"}
    authorizer = body["securityDefinitions"]["CognitoAuthorizer"]["x-amazon-apigateway-authorizer"]
    assert authorizer["type"] == "cognito_user_pools"
    # The stack's own pool unless one is given.
    assert authorizer["providerARNs"][0]["Fn::If"][:2] == ["CreateUserPool", {"Fn::GetAtt": ["UserPool", "Arn"]}]
    given = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abc"
    body = api_body(Authorizer="CognitoAuthorizer", CognitoUserPoolArn=given)
    authorizer = body["securityDefinitions"]["CognitoAuthorizer"]["x-amazon-apigateway-authorizer"]
    assert authorizer["providerARNs"][0]["Fn::If"][2] == given


def test_preflights_need_no_credentials_in_either_mode() -> None:
    for body in (api_body(), api_body(Authorizer="CognitoAuthorizer")):
        for path, _method in ROUTES:
            assert schemes(body, path, "options") == set(), path


def test_refusals_from_api_gateway_carry_cors_headers() -> None:
    responses = api_body()["x-amazon-apigateway-gateway-responses"]
    assert "Access-Control-Allow-Origin" in str(responses["DEFAULT_4XX"]["responseParameters"])


def test_preflight_allows_the_authorization_header() -> None:
    body = api_body(Authorizer="CognitoAuthorizer")
    integration = body["paths"]["/v1/jobs"]["options"]["x-amazon-apigateway-integration"]
    headers = integration["responses"]["default"]["responseParameters"]
    allowed = headers["method.response.header.Access-Control-Allow-Headers"]
    assert "Authorization" in allowed


def test_the_web_page_can_sign_in_to_the_stacks_own_user_pool() -> None:
    """The page calls Cognito's InitiateAuth with the app client's id alone: no secret, password and
    refresh flows allowed, and the ids it needs are outputs."""
    found = resources(Authorizer="CognitoAuthorizer")
    client = found["UserPoolClient"]["Properties"]
    assert client["GenerateSecret"] is False
    assert {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"} <= set(client["ExplicitAuthFlows"])
    assert found["UserPoolClient"]["Condition"] == "CreateUserPool"
