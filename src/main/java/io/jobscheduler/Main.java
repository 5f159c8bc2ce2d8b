package io.jobscheduler;

public final class Main {
    public static void main(String[] args) {
        System.out.println(io.jobscheduler.grpc.StartJobReq.newBuilder().setCommand("x").build());
    }
}
