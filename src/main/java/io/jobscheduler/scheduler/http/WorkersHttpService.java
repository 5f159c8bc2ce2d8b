package io.jobscheduler.scheduler.http;

import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.jobscheduler.scheduler.JobGateway;
import io.jobscheduler.scheduler.SchedulerException;
import io.jobscheduler.scheduler.WorkerRegistry;
import io.jobscheduler.security.ApiRole;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.UUID;

/** {@code /workers}: the registered workers, as the registry knows them; an admin forgets one that is down. */
final class WorkersHttpService {
    private final WorkerRegistry registry;
    private final JobGateway gateway;

    WorkersHttpService(WorkerRegistry registry, JobGateway gateway) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.gateway = Objects.requireNonNull(gateway, "gateway");
    }

    /** The worker routes, for {@link ApiRoutes}. */
    List<ApiRoute> routes() {
        return List.of(
                ApiRoute.get("/workers", ApiRole.VIEWER, this::list),
                ApiRoute.get("/workers/{id}", ApiRole.VIEWER, this::one),
                ApiRoute.delete("/workers/{id}", ApiRole.ADMIN, this::remove));
    }

    private void list(ServerRequest request, ServerResponse response) {
        QueryParameters.only(request);
        List<WorkerBody> workers = registry.overview().stream().map(WorkersHttpService::body).toList();
        JsonBody.send(response, Status.OK_200, new WorkersBody(workers));
    }

    private void one(ServerRequest request, ServerResponse response) {
        QueryParameters.only(request);
        UUID id = pathId(request);
        WorkerRegistry.Listed worker = registry.overview(id).orElseThrow(() -> new SchedulerException.UnknownWorker(id));
        JsonBody.send(response, Status.OK_200, body(worker));
    }

    /** {@code DELETE /workers/{id}}: forgets a worker that is down; its unfinished jobs are LOST. */
    private void remove(ServerRequest request, ServerResponse response) {
        QueryParameters.only(request);
        UUID id = pathId(request);
        HttpAudit.before(request, entry -> entry.worker(id.toString()));
        int lost = gateway.forget(id);
        JsonBody.send(response, Status.OK_200, new RemovedBody(id.toString(), lost));
    }

    private static UUID pathId(ServerRequest request) {
        String text = request.path().pathParameters().get("id");
        return WorkerRegistry.parseId(text)
                .orElseThrow(() -> ApiException.badRequest("worker id '" + text + "' is not a UUID"));
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

    /** {@code DELETE /workers/{id}}: the worker forgotten, and how many of its jobs are now {@code LOST}. */
    public record RemovedBody(String workerId, int jobsLost) {
    }

    /** {@code GET /workers}. */
    public record WorkersBody(List<WorkerBody> workers) {
    }
}
