import { describe, expect, it } from "vitest";

import { CognitoSignIn } from "../src/cognito.js";

function fakeCognito(answers: Record<string, unknown>[]) {
  const requests: { url: string; target: string; body: Record<string, unknown> }[] = [];
  const fetcher = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const headers = init.headers as Record<string, string>;
    requests.push({ url: String(input), target: headers["X-Amz-Target"] ?? "", body: JSON.parse(String(init.body)) });
    const answer = answers.shift() ?? {};
    return new Response(JSON.stringify(answer), { status: "__type" in answer ? 400 : 200 });
  };
  return { requests, fetcher: fetcher as typeof fetch };
}

describe("CognitoSignIn", () => {
  it("signs in with USER_PASSWORD_AUTH and refreshes the ID token a minute before it expires", async () => {
    let now = 1_000_000;
    const cognito = fakeCognito([
      { AuthenticationResult: { IdToken: "id-1", RefreshToken: "refresh-1", ExpiresIn: 3600 } },
      { AuthenticationResult: { IdToken: "id-2", ExpiresIn: 3600 } },
    ]);
    const signIn = new CognitoSignIn({ region: "eu-west-1", clientId: "client-9" }, cognito.fetcher, () => now);
    const session = await signIn.signIn("ana@example.com", "a long passphrase");
    expect(session).toEqual({ idToken: "id-1", refreshToken: "refresh-1", expiresAt: now + 3_600_000 });
    expect(cognito.requests[0]).toEqual({
      url: "https://cognito-idp.eu-west-1.amazonaws.com/",
      target: "AWSCognitoIdentityProviderService.InitiateAuth",
      body: {
        AuthFlow: "USER_PASSWORD_AUTH",
        ClientId: "client-9",
        AuthParameters: { USERNAME: "ana@example.com", PASSWORD: "a long passphrase" },
      },
    });
    expect(await signIn.fresh(session)).toBe(session); // an hour left: kept
    now += 3_560_000; // 40 s left: refreshed
    expect(await signIn.fresh(session)).toMatchObject({ idToken: "id-2", refreshToken: "refresh-1" });
    expect(cognito.requests[1]?.body).toMatchObject({ AuthFlow: "REFRESH_TOKEN_AUTH", AuthParameters: { REFRESH_TOKEN: "refresh-1" } });
  });

  it("says why Cognito refused", async () => {
    const cognito = fakeCognito([{ __type: "NotAuthorizedException", message: "Incorrect username or password." }]);
    const signIn = new CognitoSignIn({ region: "eu-west-1", clientId: "c" }, cognito.fetcher);
    await expect(signIn.signIn("ana@example.com", "wrong")).rejects.toMatchObject({ status: 400, detail: "Incorrect username or password." });
  });

  it("names a challenge it cannot answer (a new user's first password change)", async () => {
    const cognito = fakeCognito([{ ChallengeName: "NEW_PASSWORD_REQUIRED", Session: "s" }]);
    const signIn = new CognitoSignIn({ region: "eu-west-1", clientId: "c" }, cognito.fetcher);
    await expect(signIn.signIn("ana@example.com", "temporary")).rejects.toThrow("NEW_PASSWORD_REQUIRED");
  });
});
