# syntax=docker/dockerfile:1
# One image for every Locus component: `locus <extender|operator|webhook|agent|certs|...>`.
#   docker build -t <registry>/locus:<tag> . && docker push <registry>/locus:<tag>
#   (cd deploy && kustomize edit set image locus=<registry>/locus:<tag>)

# ---- build: all dependencies, TypeScript compiled to dist/
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: no install script runs in the build; esbuild's (the one package.json allows) only serves tsx, which the build does not use
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY sim ./sim
# tsconfig.json also covers test/, bench/ and scripts/; the image needs only what src/ and sim/ compile to
RUN npm run build

# ---- runtime: production dependencies only, no compiler, no npm at run time
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /opt/locus
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist/src ./dist/src
COPY --from=build /src/dist/sim ./dist/sim
# the simulator's bundled traces, found next to its compiled code (sim/workloads/index.ts)
COPY sim/traces ./dist/sim/traces
RUN ln -s /opt/locus/dist/src/cli/locus.js /usr/local/bin/locus \
 && ln -s /opt/locus/dist/src/cli/locus.js /usr/local/bin/kubectl-locus \
 && chmod 0755 dist/src/cli/locus.js
# the uid every manifest under deploy/ runs as; nothing in the image is writable by it, so the
# root filesystem can be mounted read-only (the agent writes only its cache volume)
USER 65532:65532
ENTRYPOINT ["locus"]
CMD ["--help"]
