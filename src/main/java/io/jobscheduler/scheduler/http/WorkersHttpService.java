package io.jobscheduler.scheduler.http;

import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.jobscheduler.scheduler.SchedulerException;
import io.jobscheduler.scheduler.WorkerRegistry;
import io.jobscheduler.security.ApiRole;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.UUID;

/** {@code /workers}: the registered workers, as the registry knows them. */
final class WorkersHttpService {
    private final WorkerRegistry registry;

    WorkersHttpService(WorkerRegistry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
    }

    /** The worker routes, for {@link ApiRoutes}. */
    List<ApiRoute> routes() {
        return List.of(
                ApiRoute.get("/workers", ApiRole.VIEWER, this::list),
                ApiRoute.get("/workers/{id}", ApiRole.VIEWER, this::one));
    }

    private void list(ServerRequest request, ServerResponse response) {
        QueryParameters.only(request);
        List<WorkerBody> workers = registry.overview().stream().map(WorkersHttpService::body).toList();
        JsonBody.send(response, Status.OK_200, new WorkersBody(workers));
    }

    private void one(ServerRequest request, ServerResponse response) {
        QueryParameters.only(request);
        String text = request.path().pathParameters().get("id");
        UUID id = WorkerRegistry.parseId(text)
                .orElseThrow(() -> ApiException.badRequest("worker id '" + text + "' is not a UUID"));
        WorkerRegistry.Listed worker = registry.overview(id).orElseThrow(() -> new SchedulerException.UnknownWorker(id));
        JsonBody.send(response, Status.OK_200, body(worker));
    }

    private static WorkerBody body(WorkerRegistry.Listed listed) {
        var worker = listed.worker();
        var health = listed.health();
        return new WorkerBody(worker.id().toString(), worker.address().toString(),
                JsonBody.time(worker.registeredAt()), health.state().name().toLowerCase(Locale.ROOT),
                JsonBody.time(health.lastSeen()), health.runningJobs(), worker.limits());
    }

    /**
     * One worker as the API shows it: {@code state} is {@code alive} or {@code down}; {@code limits} what it
     * enforces (README, "Limits").
     */
    public record WorkerBody(String id, String address, String registeredAt, String state, String lastSeen,
                             int runningJobs, List<String> limits) {
    }

    /** {@code GET /workers}. */
    public record WorkersBody(List<WorkerBody> workers) {
    }
}
