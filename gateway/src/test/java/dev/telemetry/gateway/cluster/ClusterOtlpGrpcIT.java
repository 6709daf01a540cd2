package dev.telemetry.gateway.cluster;

/** {@link ClusterIT}'s scenarios with members forwarding over OTLP/gRPC to each other's receivers. */
class ClusterOtlpGrpcIT extends ClusterIT {
  @Override
  String transport() {
    return "otlp_grpc";
  }
}
