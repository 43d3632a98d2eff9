package io.linkbase.gateway.auth;

import java.util.Set;

/** Who is calling: the token's subject, tenant and roles. */
public record Principal(String subject, String tenant, Set<Role> roles) {
    public boolean has(Role needed) {
        for (Role r : roles) {
            if (r.grants(needed)) {
                return true;
            }
        }
        return false;
    }
}
