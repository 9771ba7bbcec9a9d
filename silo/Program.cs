using Kefu.Grains.Hosting;

// The standalone silo host: the same silo configuration the embedded gateway uses.
var builder = Host.CreateApplicationBuilder(args);
builder.UseOrleans(silo => silo.AddKefu(builder.Configuration));
builder.Build().Run();
