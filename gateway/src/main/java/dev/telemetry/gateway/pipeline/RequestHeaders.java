package dev.telemetry.gateway.pipeline;

/**
 * Read access to the headers (HTTP) or metadata (gRPC) of the request that carried the data, and to the client's TLS
 * certificate when it presented one.
 */
@FunctionalInterface
public interface RequestHeaders {
  RequestHeaders NONE = name -> null;

  /**
   * The pseudo-header authentication sets: the tenant of the request's credential. When present it is the tenant —
   * routing, quotas and data streams never read a client-chosen header or attribute then.
   */
  String AUTHENTICATED_TENANT = "\u0000authenticated-tenant";

  /** The first value of a header, case-insensitively; null when absent. */
  String get(String name);

  /** The client's certificate chain (mutual TLS), or null. */
  default java.security.cert.Certificate[] peerCertificates() {
    return null;
  }

  /** These headers with the authenticated tenant added. */
  default RequestHeaders authenticatedAs(String tenant) {
    RequestHeaders self = this;
    return new RequestHeaders() {
      @Override
      public String get(String name) {
        return AUTHENTICATED_TENANT.equals(name) ? tenant : self.get(name);
      }

      @Override
      public java.security.cert.Certificate[] peerCertificates() {
        return self.peerCertificates();
      }
    };
  }

  /** Headers read through {@code get}, with the client's certificates of a TLS session (null: none). */
  static RequestHeaders of(java.util.function.Function<String, String> get, javax.net.ssl.SSLSession session) {
    return new RequestHeaders() {
      @Override
      public String get(String name) {
        return get.apply(name);
      }

      @Override
      public java.security.cert.Certificate[] peerCertificates() {
        if (session == null) {
          return null;
        }
        try {
          return session.getPeerCertificates();
        } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
          return null;
        }
      }
    };
  }
}
