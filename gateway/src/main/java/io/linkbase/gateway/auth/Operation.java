package io.linkbase.gateway.auth;

import io.grpc.MethodDescriptor;
import io.linkbase.proto.v1.LinkbaseGrpc;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Every operation of the public API with the role it needs — declared once, for both faces: an
 * HTTP route names its operation with {@link Op} (checked by {@link AccessFilter}), a public
 * gRPC method is found by its name (checked by {@code publicgrpc/AuthorizationInterceptor}).
 */
public enum Operation {
    PROVISION_TENANT(Role.PLATFORM_ADMIN, LinkbaseGrpc::getProvisionTenantMethod),
    LIST_TABLES(Role.VIEWER, LinkbaseGrpc::getListTablesMethod),
    CREATE_TABLE(Role.OWNER, LinkbaseGrpc::getCreateTableMethod),
    GET_TABLE(Role.VIEWER, LinkbaseGrpc::getGetTableMethod),
    UPDATE_TABLE(Role.OWNER, LinkbaseGrpc::getUpdateTableMethod),
    DELETE_TABLE(Role.OWNER, LinkbaseGrpc::getDeleteTableMethod),
    ADD_COLUMN(Role.OWNER, LinkbaseGrpc::getAddColumnMethod),
    UPDATE_COLUMN(Role.OWNER, LinkbaseGrpc::getUpdateColumnMethod),
    DROP_COLUMN(Role.OWNER, LinkbaseGrpc::getDropColumnMethod),
    LIST_TABLE_EVENTS(Role.VIEWER, LinkbaseGrpc::getListTableEventsMethod),
    LINK_CANDIDATES(Role.VIEWER, LinkbaseGrpc::getGetLinkCandidatesMethod),
    PREVIEW_LINK(Role.OWNER, LinkbaseGrpc::getPreviewLinkMethod),
    LINK_COLUMN(Role.OWNER, LinkbaseGrpc::getLinkColumnMethod),
    GET_LINK(Role.VIEWER, LinkbaseGrpc::getGetLinkMethod),
    UNLINK_COLUMN(Role.OWNER, LinkbaseGrpc::getUnlinkColumnMethod),
    UNDO_LINK(Role.OWNER, LinkbaseGrpc::getUndoLinkMethod),
    LIST_RECORDS(Role.VIEWER, LinkbaseGrpc::getListRecordsMethod),
    CREATE_RECORD(Role.EDITOR, LinkbaseGrpc::getCreateRecordMethod),
    CREATE_RECORDS(Role.EDITOR, LinkbaseGrpc::getCreateRecordsMethod),
    GET_RECORD(Role.VIEWER, LinkbaseGrpc::getGetRecordMethod),
    UPDATE_RECORD(Role.EDITOR, LinkbaseGrpc::getUpdateRecordMethod),
    DELETE_RECORD(Role.EDITOR, LinkbaseGrpc::getDeleteRecordMethod),
    SUGGEST(Role.VIEWER, LinkbaseGrpc::getSuggestMethod),
    SUGGEST_STREAM(Role.VIEWER, LinkbaseGrpc::getSuggestStreamMethod),
    CREATE_SUGGESTED_RECORD(Role.EDITOR, LinkbaseGrpc::getCreateSuggestedRecordMethod);

    private static final Map<String, Operation> BY_GRPC_METHOD = new HashMap<>();

    static {
        for (Operation o : values()) {
            BY_GRPC_METHOD.put(o.grpcMethod.get().getFullMethodName(), o);
        }
    }

    private final Role role;
    private final Supplier<MethodDescriptor<?, ?>> grpcMethod;

    Operation(Role role, Supplier<MethodDescriptor<?, ?>> grpcMethod) {
        this.role = role;
        this.grpcMethod = grpcMethod;
    }

    /** The least role a caller must hold. */
    public Role role() {
        return role;
    }

    /** The operation of a public gRPC method ({@code linkbase.v1.Linkbase/CreateTable}), or null (health, reflection). */
    public static Operation ofGrpcMethod(String fullMethodName) {
        return BY_GRPC_METHOD.get(fullMethodName);
    }
}
