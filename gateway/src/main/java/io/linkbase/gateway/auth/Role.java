package io.linkbase.gateway.auth;

import java.util.Locale;
import java.util.Optional;

/** API.md roles; within a tenant each includes the ones before it. */
enum Role {
    VIEWER, EDITOR, OWNER, PLATFORM_ADMIN;

    public static Optional<Role> fromClaim(String claim) {
        return switch (claim.toLowerCase(Locale.ROOT)) {
            case "viewer" -> Optional.of(VIEWER);
            case "editor" -> Optional.of(EDITOR);
            case "owner" -> Optional.of(OWNER);
            case "platform-admin" -> Optional.of(PLATFORM_ADMIN);
            default -> Optional.empty();
        };
    }

    /** Whether holding this role grants {@code needed}. Platform admins provision only. */
    public boolean grants(Role needed) {
        if (this == PLATFORM_ADMIN || needed == PLATFORM_ADMIN) {
            return this == needed;
        }
        return ordinal() >= needed.ordinal();
    }
}
