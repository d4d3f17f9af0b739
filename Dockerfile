# Build with Maven on a JDK, run on a JRE as a non-root user. The image always has a database
# configured (compose.yaml), so it leaves out the embedded PostgreSQL binaries.
FROM maven:3.9-eclipse-temurin-21 AS build
WORKDIR /src
COPY pom.xml .
RUN mvn -B -q -DskipEmbedded dependency:go-offline
COPY src src
COPY db db
COPY web web
RUN mvn -B -q -DskipEmbedded -DskipTests package

FROM eclipse-temurin:21-jre
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app pgchat
WORKDIR /app
COPY --from=build /src/target/libs libs
COPY --from=build /src/target/pgchat.jar pgchat.jar
USER pgchat
EXPOSE 8080
ENTRYPOINT ["java", "-jar", "/app/pgchat.jar"]
