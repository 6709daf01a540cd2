package dev.telemetry.gateway.pipeline;

import com.google.protobuf.Message;
import dev.telemetry.gateway.backpressure.RefusedException;
import dev.telemetry.gateway.backpressure.Reservation;
import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.routing.RouteMatcher;

/**
 * A check every request passes before the pipelines take it (tenant quotas): it either reserves what the request
 * costs or throws {@link RefusedException}. The pipelines commit the reservation when the request is taken and
 * release it when it is refused further on, so a client told to retry is not charged twice.
 */
public interface Admission {
  /**
   * {@code matcher}: the routing table in use (null without routing), which says where an item's tenant comes from;
   * {@code headerTenant}: the tenant header's value, if any.
   */
  Reservation reserve(Signal signal, Message request, int items, int bytes, RouteMatcher matcher, String headerTenant);
}
