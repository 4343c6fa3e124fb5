/**
 * Signing in to the stack's Cognito user pool (Authorizer=CognitoAuthorizer) from the page, with
 * Cognito's public API: InitiateAuth with USER_PASSWORD_AUTH, then REFRESH_TOKEN_AUTH before the ID
 * token expires. No AWS credentials are involved: these operations take the app client's id only.
 */

import { ApiError } from "./errors.js";

export interface CognitoConfig {
  region: string;
  clientId: string;
}

export interface Session {
  idToken: string;
  refreshToken: string;
  expiresAt: number; // ms since the epoch
}

interface AuthenticationResult {
  IdToken: string;
  RefreshToken?: string;
  ExpiresIn: number;
}

export class CognitoSignIn {
  constructor(
    private readonly config: CognitoConfig,
    private readonly fetcher: typeof fetch = globalThis.fetch.bind(globalThis),
    private readonly now: () => number = Date.now,
  ) {}

  async signIn(username: string, password: string): Promise<Session> {
    const result = await this.initiate("USER_PASSWORD_AUTH", { USERNAME: username, PASSWORD: password });
    if (!result.RefreshToken) throw new ApiError(0, "Cognito gave no refresh token");
    return this.session(result, result.RefreshToken);
  }

  /** The session itself while its ID token has a minute left, else a refreshed one. */
  async fresh(session: Session): Promise<Session> {
    if (session.expiresAt - this.now() > 60_000) return session;
    const result = await this.initiate("REFRESH_TOKEN_AUTH", { REFRESH_TOKEN: session.refreshToken });
    return this.session(result, session.refreshToken);
  }

  private session(result: AuthenticationResult, refreshToken: string): Session {
    return { idToken: result.IdToken, refreshToken, expiresAt: this.now() + result.ExpiresIn * 1000 };
  }

  private async initiate(flow: string, parameters: Record<string, string>): Promise<AuthenticationResult> {
    const response = await this.fetcher(`https://cognito-idp.${this.config.region}.amazonaws.com/`, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
      },
      body: JSON.stringify({ AuthFlow: flow, ClientId: this.config.clientId, AuthParameters: parameters }),
    });
    const body = (await response.json()) as {
      AuthenticationResult?: AuthenticationResult;
      ChallengeName?: string;
      message?: string;
      __type?: string;
    };
    if (!response.ok) throw new ApiError(response.status, body.message ?? body.__type ?? "sign-in refused");
    if (!body.AuthenticationResult) {
      throw new ApiError(0, `Cognito asks for ${body.ChallengeName ?? "another step"}: finish it in the AWS console first`);
    }
    return body.AuthenticationResult;
  }
}
