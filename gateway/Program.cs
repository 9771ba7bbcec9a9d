using Kefu.Gateway.Hosting;

// Content root = the app's folder, not the working directory: started from elsewhere ("dotnet /opt/kefu/Kefu.Gateway.dll")
// it still reads its appsettings.json (log levels included).
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddKefuGateway();

var app = builder.Build();
app.MapKefuGateway();
app.Run();
