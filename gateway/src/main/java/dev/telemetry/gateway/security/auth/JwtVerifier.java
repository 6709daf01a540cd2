package dev.telemetry.gateway.security.auth;

import dev.telemetry.gateway.config.AuthConfig;
import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.pipeline.Authentication.AccessDenied;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.AlgorithmParameters;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Checks JWTs (JWS compact form, RS256 or ES256) against the keys of a JWKS file: the signature, {@code iss},
 * {@code aud}, {@code exp} (required) and {@code nbf} with the configured clock skew; the tenant and the signals come
 * from the configured claims. The key set is immutable: a reload builds a new verifier.
 */
final class JwtVerifier {
  private record Key(String kid, String kty, PublicKey key) {
  }

  private final AuthConfig.Jwt config;
  private final List<Key> keys;

  private JwtVerifier(AuthConfig.Jwt config, List<Key> keys) {
    this.config = config;
    this.keys = keys;
  }

  /** Reads the JWKS file; fails naming the file and the key that cannot be used. */
  static JwtVerifier load(AuthConfig.Jwt config) throws java.io.IOException {
    JsonObject jwks;
    try {
      jwks = new JsonObject(Files.readString(config.jwksFile(), StandardCharsets.UTF_8));
    } catch (io.vertx.core.json.DecodeException e) {
      throw new java.io.IOException(config.jwksFile() + ": not JSON: " + e.getMessage());
    }
    List<Key> keys = new ArrayList<>();
    JsonArray list = jwks.getJsonArray("keys", new JsonArray());
    for (int i = 0; i < list.size(); i++) {
      JsonObject k = list.getJsonObject(i);
      try {
        keys.add(new Key(k.getString("kid"), k.getString("kty"), publicKey(k)));
      } catch (Exception e) {
        throw new java.io.IOException(config.jwksFile() + ": keys[" + i + "]: " + e.getMessage());
      }
    }
    if (keys.isEmpty()) {
      throw new java.io.IOException(config.jwksFile() + ": no keys");
    }
    return new JwtVerifier(config, keys);
  }

  private static PublicKey publicKey(JsonObject k) throws Exception {
    String kty = k.getString("kty", "");
    switch (kty) {
      case "RSA" -> {
        return KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(big(k, "n"), big(k, "e")));
      }
      case "EC" -> {
        if (!"P-256".equals(k.getString("crv"))) {
          throw new IllegalArgumentException("only the P-256 curve (ES256) is supported, found " + k.getString("crv"));
        }
        AlgorithmParameters p = AlgorithmParameters.getInstance("EC");
        p.init(new ECGenParameterSpec("secp256r1"));
        ECParameterSpec spec = p.getParameterSpec(ECParameterSpec.class);
        return KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(new ECPoint(big(k, "x"),
            big(k, "y")), spec));
      }
      default -> throw new IllegalArgumentException("unsupported key type \"" + kty + "\" (RSA, EC)");
    }
  }

  private static BigInteger big(JsonObject k, String field) {
    String v = k.getString(field);
    if (v == null) {
      throw new IllegalArgumentException("missing \"" + field + "\"");
    }
    return new BigInteger(1, Base64.getUrlDecoder().decode(v));
  }

  static boolean looksLikeJwt(String token) {
    int first = token.indexOf('.');
    return first > 0 && token.indexOf('.', first + 1) > first && token.indexOf('.', token.indexOf('.', first + 1)
        + 1) < 0;
  }

  Principal verify(String token, long nowMillis) {
    String[] parts = token.split("\\.", -1);
    JsonObject header;
    JsonObject claims;
    byte[] signature;
    try {
      header = new JsonObject(new String(Base64.getUrlDecoder().decode(parts[0]), StandardCharsets.UTF_8));
      claims = new JsonObject(new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8));
      signature = Base64.getUrlDecoder().decode(parts[2]);
    } catch (RuntimeException e) {
      throw deny("jwt_malformed", "the bearer token is not a well-formed JWT");
    }
    String alg = header.getString("alg", "");
    String kty = switch (alg) {
      case "RS256" -> "RSA";
      case "ES256" -> "EC";
      default -> throw deny("jwt_algorithm", "JWT algorithm \"" + alg + "\" is not accepted (RS256, ES256)");
    };
    String kid = header.getString("kid");
    byte[] signed = (parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII);
    boolean valid = false;
    for (Key k : keys) {
      if (!k.kty().equals(kty) || kid != null && k.kid() != null && !kid.equals(k.kid())) {
        continue;
      }
      try {
        Signature s = Signature.getInstance(kty.equals("RSA") ? "SHA256withRSA" : "SHA256withECDSAinP1363Format");
        s.initVerify(k.key());
        s.update(signed);
        if (s.verify(signature)) {
          valid = true;
          break;
        }
      } catch (java.security.GeneralSecurityException e) {
        // a malformed signature for this key: try the next
      }
    }
    if (!valid) {
      throw deny("jwt_signature", "the JWT's signature does not verify with any key of the JWKS");
    }
    long skew = config.clockSkew().toSeconds();
    long now = nowMillis / 1000;
    if (!config.issuer().equals(claims.getString("iss"))) {
      throw deny("jwt_issuer", "the JWT's issuer is not " + config.issuer());
    }
    Object aud = claims.getValue("aud");
    boolean audience = aud instanceof String a ? a.equals(config.audience())
        : aud instanceof JsonArray list && list.contains(config.audience());
    if (!audience) {
      throw deny("jwt_audience", "the JWT is not for audience " + config.audience());
    }
    if (!(claims.getValue("exp") instanceof Number exp)) {
      throw deny("jwt_expiry", "the JWT has no exp");
    }
    if (exp.longValue() + skew < now) {
      throw deny("jwt_expired", "the JWT expired at " + java.time.Instant.ofEpochSecond(exp.longValue()));
    }
    if (claims.getValue("nbf") instanceof Number nbf && nbf.longValue() - skew > now) {
      throw deny("jwt_not_yet_valid", "the JWT is not valid before " + java.time.Instant.ofEpochSecond(
          nbf.longValue()));
    }
    if (!(claims.getValue(config.tenantClaim()) instanceof String tenant) || tenant.isEmpty()) {
      throw new AccessDenied(false, "jwt_tenant", "the JWT has no " + config.tenantClaim() + " claim naming a tenant");
    }
    Set<Signal> signals = EnumSet.allOf(Signal.class);
    if (config.signalsClaim() != null) {
      signals = EnumSet.noneOf(Signal.class);
      if (claims.getValue(config.signalsClaim()) instanceof JsonArray list) {
        for (Object o : list) {
          try {
            signals.add(Signal.fromId(String.valueOf(o)));
          } catch (IllegalArgumentException e) {
            // a signal this gateway does not know: not granted
          }
        }
      }
    }
    return new Principal(claims.getString("sub", "jwt"), "jwt", tenant, signals);
  }

  private static AccessDenied deny(String reason, String message) {
    return new AccessDenied(true, reason, message);
  }
}
