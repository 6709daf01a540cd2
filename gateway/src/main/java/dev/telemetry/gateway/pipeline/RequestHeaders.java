package dev.telemetry.gateway.pipeline;

/** Read access to the headers (HTTP) or metadata (gRPC) of the request that carried the data. */
@FunctionalInterface
public interface RequestHeaders {
  RequestHeaders NONE = name -> null;

  /** The first value of a header, case-insensitively; null when absent. */
  String get(String name);
}
